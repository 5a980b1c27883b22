/**
 * The que-java web dashboard: {@link io.quejava.dashboard.Dashboard} answers
 * {@link io.quejava.dashboard.DashboardRequest}s with {@link io.quejava.dashboard.DashboardResponse}s
 * (mount it in any server), or serves itself on the JDK's HTTP server
 * ({@link io.quejava.dashboard.DashboardServer}); {@link io.quejava.dashboard.Authenticator} decides
 * who may see it.
 */
package io.quejava.dashboard;
