package io.quejava.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The results table: one row per measurement, with que-java, que-go and the floor side by side and
 * the ratios of que-java to each. Ratios are que-java divided by the other: for jobs/s above 1 means
 * que-java is faster; for milliseconds and queries/s below 1 means que-java is better.
 */
final class Report {
  /** One figure, or the reason there is none. */
  record Cell(Double value, String text) {
    static Cell of(double v) {
      return new Cell(v, null);
    }

    static Cell na(String why) {
      return new Cell(null, why);
    }

    static final Cell NONE = new Cell(null, "-");

    String show(String unit) {
      if (value == null) {
        return text;
      }
      return format(value, unit);
    }
  }

  record Row(String scenario, String unit, Cell java, Cell go, Cell floor) {}

  private final List<Object> lines = new ArrayList<>(); // Row, or String for a section heading
  private final List<String> notes = new ArrayList<>();

  synchronized void section(String title) {
    lines.add(title);
  }

  synchronized void row(String scenario, String unit, Cell java, Cell go, Cell floor) {
    lines.add(new Row(scenario, unit, java, go, floor));
  }

  synchronized void note(String note) {
    notes.add(note);
  }

  static String format(double v, String unit) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    if (unit.equals("ms")) {
      return v < 10 ? String.format(Locale.ROOT, "%.2f", v) : v < 100 ? String.format(Locale.ROOT, "%.1f", v)
          : String.format(Locale.ROOT, "%,.0f", v);
    }
    if (unit.equals("queries/s")) {
      return String.format(Locale.ROOT, "%.2f", v);
    }
    return String.format(Locale.ROOT, "%,.0f", v);
  }

  private static String ratio(Cell a, Cell b) {
    if (a.value() == null || b.value() == null || b.value() == 0 || Double.isNaN(a.value()) || Double.isNaN(b.value())) {
      return "";
    }
    return String.format(Locale.ROOT, "%.2f", a.value() / b.value());
  }

  synchronized void print(PrintStream out) {
    String[] head = {"scenario", "unit", "que-java", "que-go", "floor", "java/go", "java/floor"};
    List<String[]> table = new ArrayList<>();
    for (Object o : lines) {
      if (o instanceof Row r) {
        table.add(new String[] {r.scenario(), r.unit(), r.java().show(r.unit()), r.go().show(r.unit()),
            r.floor().show(r.unit()), ratio(r.java(), r.go()), ratio(r.java(), r.floor())});
      }
    }
    int[] w = new int[head.length];
    for (int i = 0; i < head.length; i++) {
      w[i] = head[i].length();
    }
    for (String[] t : table) {
      for (int i = 0; i < t.length; i++) {
        w[i] = Math.max(w[i], t[i].length());
      }
    }
    for (Object o : lines) {
      if (o instanceof String title) {
        w[0] = Math.max(w[0], title.length() + 4);
      }
    }
    out.println(line(head, w));
    StringBuilder sep = new StringBuilder();
    for (int i = 0; i < w.length; i++) {
      sep.append(i == 0 ? "|" : "").append(i < 2 ? "-".repeat(w[i] + 2) : "-".repeat(w[i] + 1) + ":").append("|");
    }
    out.println(sep);
    int next = 0;
    for (Object o : lines) {
      if (o instanceof String title) {
        String[] t = new String[head.length];
        java.util.Arrays.fill(t, "");
        t[0] = "**" + title + "**";
        out.println(line(t, w));
      } else {
        out.println(line(table.get(next++), w));
      }
    }
    for (String n : notes) {
      out.println();
      out.println(n);
    }
  }

  private static String line(String[] cells, int[] w) {
    StringBuilder sb = new StringBuilder("|");
    for (int i = 0; i < cells.length; i++) {
      String c = cells[i];
      String pad = " ".repeat(w[i] - c.length());
      sb.append(' ').append(i < 2 ? c + pad : pad + c).append(" |");
    }
    return sb.toString();
  }
}
