package io.quejava;

import java.util.List;

/**
 * What an operator's write ({@link JobAdmin#retry}, {@link JobAdmin#delete}) did, id by id.
 *
 * @param done ids written
 * @param held ids some session (a worker of any language) holds: left untouched
 * @param missing ids with no row (or, for a retry on 4–7, a finished row), or whose row changed
 *     between the read and the write
 */
public record AdminResult(List<Long> done, List<Long> held, List<Long> missing) {}
