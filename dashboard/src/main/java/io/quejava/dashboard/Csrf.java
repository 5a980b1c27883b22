package io.quejava.dashboard;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * CSRF tokens: a random session cookie per browser, and as token the HMAC-SHA256 of that cookie
 * under a secret the dashboard draws at start. A forged form from another site can neither read
 * the cookie nor compute the token; every POST must carry both, and they must agree.
 */
final class Csrf {
  static final String COOKIE = "que_dashboard_session";
  static final String FIELD = "_csrf";

  private final SecretKeySpec key;
  private final SecureRandom random = new SecureRandom();

  Csrf(byte[] secret) {
    this.key = new SecretKeySpec(secret, "HmacSHA256");
  }

  String newSession() {
    byte[] b = new byte[24];
    random.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  String token(String session) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(session.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
    }
  }

  boolean valid(String session, String token) {
    if (session == null || token == null || session.isEmpty() || token.isEmpty()) {
      return false;
    }
    return MessageDigest.isEqual(token(session).getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
  }
}
