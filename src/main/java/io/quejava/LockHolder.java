package io.quejava;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A database session that holds job locks (advisory locks in the one-argument form), with what is
 * known of the process behind it: from que-java's heartbeats (host and OS pid), from Ruby Que
 * 1.x/2.x's {@code que_lockers} (host and pid), and from {@code pg_stat_activity} (application name
 * and client address; other roles' sessions show only what the reading role may see).
 *
 * @param backendPid the session's backend pid
 * @param locks how many bigint advisory locks it holds (job locks, unless the application takes
 *     bigint advisory locks of its own)
 * @param language {@code "java"} (heartbeats), {@code "ruby"} (que_lockers), or {@code "unknown"}:
 *     que-go and Ruby Que 0.x register nowhere
 * @param host the worker's host name where known
 * @param osPid the worker's OS process id where known
 * @param applicationName the session's application_name (untrusted text)
 * @param clientAddress the session's client address, empty for a Unix socket or when hidden
 * @param state the session's state (active, idle, idle in transaction, ...)
 * @param backendStart when the session started
 */
public record LockHolder(
    int backendPid,
    long locks,
    String language,
    Optional<String> host,
    OptionalLong osPid,
    Optional<String> applicationName,
    Optional<String> clientAddress,
    Optional<String> state,
    Optional<Instant> backendStart) {}
