package io.quejava.dashboard;

import io.quejava.Client;
import io.quejava.JobListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The que-java web dashboard: queues, jobs, failing jobs, dead letters, schedules and in-flight jobs
 * of one que_jobs table, whatever language enqueued or works its jobs.
 *
 * <p>Transport-neutral: {@link #handle(DashboardRequest)} answers one request, so the dashboard can
 * be mounted into any server under a {@link Builder#basePath base path}; {@link #start} serves it on
 * the JDK's own HTTP server. Thread-safe; every page reads the database afresh.
 *
 * <pre>{@code
 * Dashboard dashboard = Dashboard.builder(client).basicAuth("ops", secret).build();
 * try (DashboardServer server = dashboard.start(new InetSocketAddress("127.0.0.1", 8080))) {
 *   ...
 * }
 * }</pre>
 *
 * <p>Safety: every write goes through {@link io.quejava.JobAdmin} or the extension APIs, which take
 * {@code pg_try_advisory_lock} on each job first and skip (and report) jobs a worker holds; every
 * POST must carry the CSRF token of the page it came from; GET never writes; a
 * {@link Builder#readOnly read-only} dashboard refuses every POST; every text from the table is
 * HTML-escaped.
 */
public final class Dashboard {
  /** Default page auto-refresh of the overview and in-flight pages: {@value} seconds. */
  public static final int DEFAULT_REFRESH_SECONDS = 5;
  /** Default rows on one page of the jobs list: {@value}. */
  public static final int DEFAULT_PAGE_SIZE = 50;
  /** Most jobs one bulk action (retry or delete every job matching a filter) takes: {@value}. */
  public static final int MAX_BULK = 10_000;

  final Client client;
  final String basePath;
  final boolean readOnly;
  final Authenticator authenticator;
  final int refreshSeconds;
  final int pageSize;
  final Duration queryTimeout;
  final long searchBudgetMs;
  final int searchFirstSlice;
  final boolean insecure;
  final Clock clock;
  final Throughput throughput;
  private final Pages pages;

  private Dashboard(Builder b) {
    this.client = b.client;
    this.basePath = b.basePath;
    this.readOnly = b.readOnly;
    this.authenticator = b.authenticator;
    this.refreshSeconds = b.refreshSeconds;
    this.pageSize = b.pageSize;
    this.queryTimeout = b.queryTimeout;
    this.searchBudgetMs = b.searchBudgetMs;
    this.searchFirstSlice = b.searchFirstSlice;
    this.insecure = b.insecure;
    this.clock = b.clock;
    this.throughput = new Throughput(b.clock);
    byte[] secret = b.csrfSecret;
    if (secret == null) {
      secret = new byte[32];
      new SecureRandom().nextBytes(secret);
    }
    this.pages = new Pages(this, new Csrf(secret));
  }

  /** A dashboard of the table {@code client} speaks to. */
  public static Builder builder(Client client) {
    return new Builder(Objects.requireNonNull(client, "client"));
  }

  /** A dashboard of the que_jobs table the DataSource's search_path finds ({@link Client#create(DataSource)}). */
  public static Builder builder(DataSource dataSource) {
    return builder(Client.create(Objects.requireNonNull(dataSource, "dataSource")));
  }

  /** Answers one request. Never throws for a bad request: it answers 4xx; a database failure is a 500 page. */
  public DashboardResponse handle(DashboardRequest request) {
    return pages.handle(Objects.requireNonNull(request, "request"));
  }

  /**
   * The listener to register on the worker pools of this process ({@code WorkerPool.Builder.listener}):
   * the overview's throughput chart counts the attempts it hears (worked and failed per minute over
   * the last hour). Jobs worked by other processes are not in that chart.
   */
  public JobListener jobListener() {
    return throughput;
  }

  /** Whether POSTs are refused. */
  public boolean readOnly() {
    return readOnly;
  }

  /** The base path the dashboard answers under ("" for the root). */
  public String basePath() {
    return basePath;
  }

  /** {@link #start(InetSocketAddress)} on 127.0.0.1 at {@code port} (0 picks a free port). */
  public DashboardServer start(int port) {
    return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
  }

  /**
   * Serves the dashboard on the JDK's HTTP server at {@code address}, with a bounded pool of
   * request threads. Close the returned server to stop it.
   *
   * @throws IllegalStateException when the address is not a loopback address and the dashboard has
   *     no authenticator and is not {@link Builder#insecure insecure}
   * @throws UncheckedIOException when the address cannot be bound
   */
  public DashboardServer start(InetSocketAddress address) {
    Objects.requireNonNull(address, "address");
    InetAddress ip = address.getAddress();
    boolean loopback = ip != null && ip.isLoopbackAddress();
    if (!loopback && authenticator == null && !insecure) {
      throw new IllegalStateException("refusing to serve the dashboard on " + address
          + " without authentication: set basicAuth(user, password) or an authenticator, bind 127.0.0.1,"
          + " or set insecure(true) to serve it to anyone who can reach that address");
    }
    try {
      return DashboardServer.start(this, address);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve the dashboard on " + address + ": " + e.getMessage(), e);
    }
  }

  /** Options of a {@link Dashboard}; every one has a default. */
  public static final class Builder {
    private final Client client;
    private String basePath = "";
    private boolean readOnly;
    private Authenticator authenticator;
    private int refreshSeconds = DEFAULT_REFRESH_SECONDS;
    private int pageSize = DEFAULT_PAGE_SIZE;
    private Duration queryTimeout = Duration.ofSeconds(5);
    private long searchBudgetMs = JobsSql.SEARCH_BUDGET_MS;
    private int searchFirstSlice = JobsSql.FIRST_SLICE;
    private boolean insecure;
    private Clock clock = Clock.systemUTC();
    private byte[] csrfSecret;

    private Builder(Client client) {
      this.client = client;
    }

    /**
     * The path the dashboard is mounted under, e.g. {@code /que}: links and forms carry it, and
     * requests outside it are answered 404. Default: "" (the root).
     *
     * @throws IllegalArgumentException unless it is empty or starts with '/', does not end with '/',
     *     and has only letters, digits and {@code / - _ .}
     */
    public Builder basePath(String basePath) {
      Objects.requireNonNull(basePath, "basePath");
      if (!basePath.isEmpty() && (!basePath.startsWith("/") || basePath.endsWith("/")
          || !basePath.matches("[A-Za-z0-9/_.\\-]+") || basePath.contains("//"))) {
        throw new IllegalArgumentException("basePath: '" + basePath
            + "' must be empty or like /que (start with '/', no trailing '/', letters, digits, / - _ .)");
      }
      this.basePath = basePath;
      return this;
    }

    /** Refuse every state-changing request and show no buttons that would make one. Default: false. */
    public Builder readOnly(boolean readOnly) {
      this.readOnly = readOnly;
      return this;
    }

    /** Who may see the dashboard (see {@link Authenticator}). Default: anyone who can reach it. */
    public Builder authenticator(Authenticator authenticator) {
      this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
      return this;
    }

    /** HTTP Basic authentication with one user ({@link Authenticator#basic}). */
    public Builder basicAuth(String user, String password) {
      return authenticator(Authenticator.basic(user, password));
    }

    /** Seconds between automatic reloads of the overview and in-flight pages, 0 for none. Default: {@value #DEFAULT_REFRESH_SECONDS}. */
    public Builder refreshSeconds(int seconds) {
      if (seconds < 0 || seconds > 3600) {
        throw new IllegalArgumentException("refreshSeconds: must be 0 to 3600, got " + seconds);
      }
      this.refreshSeconds = seconds;
      return this;
    }

    /** Rows per page of the jobs list, 1 to 1000. Default: {@value #DEFAULT_PAGE_SIZE}. */
    public Builder pageSize(int rows) {
      if (rows < 1 || rows > 1000) {
        throw new IllegalArgumentException("pageSize: must be 1 to 1000, got " + rows);
      }
      this.pageSize = rows;
      return this;
    }

    /**
     * The longest one jobs-list statement may run; past it the page says so instead of waiting.
     * (A filter no index serves does not wait for it: each request searches for about 120 ms and
     * links to the continuation.) Whole seconds, 1 s to 10 min. Default: 5 s.
     */
    public Builder queryTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.toSeconds() < 1 || timeout.toSeconds() > 600) {
        throw new IllegalArgumentException("queryTimeout: must be 1 s to 10 min, got " + timeout);
      }
      this.queryTimeout = Duration.ofSeconds(timeout.toSeconds());
      return this;
    }

    /**
     * For tests: the time one request's search of a filter no index serves may take, and the rows
     * its first slice reads (a budget of 0 reads exactly one slice per request).
     */
    Builder search(long budgetMs, int firstSlice) {
      if (budgetMs < 0 || firstSlice < 1) {
        throw new IllegalArgumentException("search: budget >= 0 ms and first slice >= 1 row, got " + budgetMs + ", " + firstSlice);
      }
      this.searchBudgetMs = budgetMs;
      this.searchFirstSlice = firstSlice;
      return this;
    }

    /**
     * Allow {@link Dashboard#start} on a non-loopback address without authentication (e.g. behind a
     * proxy that authenticates). Default: false.
     */
    public Builder insecure(boolean insecure) {
      this.insecure = insecure;
      return this;
    }

    /** The clock of the throughput chart's minutes. Default: the system clock, UTC. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The key of the CSRF tokens (HMAC-SHA256), at least 32 bytes. Default: 32 random bytes drawn
     * when the dashboard is built, so a page's forms stop working when the process restarts (the
     * user reloads). Set the same secret on every instance when several serve one dashboard
     * behind a load balancer without sticky sessions, and keep it as secret as a password.
     */
    public Builder csrfSecret(byte[] secret) {
      Objects.requireNonNull(secret, "secret");
      if (secret.length < 32) {
        throw new IllegalArgumentException("csrfSecret: at least 32 bytes, got " + secret.length);
      }
      this.csrfSecret = secret.clone();
      return this;
    }

    /** The dashboard. */
    public Dashboard build() {
      return new Dashboard(this);
    }
  }
}
