package io.quejava.dashboard;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;

/**
 * Decides who may see the dashboard, from the request alone (headers, remote address). Called
 * before every request, assets included. Return the principal's name to let the request through,
 * or empty to refuse it with 401; {@link #challenge()} is the {@code WWW-Authenticate} header sent
 * with that 401.
 *
 * <pre>{@code
 * Dashboard.builder(client).authenticator(r -> r.header("X-Forwarded-User")).build();
 * }</pre>
 */
@FunctionalInterface
public interface Authenticator {
  /** The principal for this request, or empty to answer 401. */
  Optional<String> authenticate(DashboardRequest request);

  /**
   * The {@code WWW-Authenticate} value of a 401, or null for none. Default: a Basic challenge, so
   * browsers ask for a user and password.
   */
  default String challenge() {
    return "Basic realm=\"que-java dashboard\", charset=\"UTF-8\"";
  }

  /**
   * HTTP Basic authentication against one user and password (compared in constant time). Use it
   * behind TLS (a reverse proxy) anywhere but on loopback: Basic sends the password in clear.
   *
   * @throws IllegalArgumentException when the user is empty or has a colon, or the password is empty
   */
  static Authenticator basic(String user, String password) {
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    if (user.isEmpty() || user.indexOf(':') >= 0) {
      throw new IllegalArgumentException("basic auth user: must be non-empty and have no ':'");
    }
    if (password.isEmpty()) {
      throw new IllegalArgumentException("basic auth password: must not be empty");
    }
    byte[] expected = (user + ":" + password).getBytes(StandardCharsets.UTF_8);
    return request -> {
      Optional<String> h = request.header("Authorization");
      if (h.isEmpty() || !h.get().regionMatches(true, 0, "Basic ", 0, 6)) {
        return Optional.empty();
      }
      byte[] given;
      try {
        given = Base64.getDecoder().decode(h.get().substring(6).trim());
      } catch (IllegalArgumentException e) {
        return Optional.empty();
      }
      return MessageDigest.isEqual(expected, given) ? Optional.of(user) : Optional.empty();
    };
  }
}
