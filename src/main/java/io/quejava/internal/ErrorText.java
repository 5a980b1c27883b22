package io.quejava.internal;

/** A failure as a dialect stores it: schema 3 keeps one text, schema 4+ a message and a backtrace. */
public record ErrorText(String message, String backtrace) {}
