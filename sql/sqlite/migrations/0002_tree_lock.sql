-- name: 0002_tree_lock
-- doc: One row that every change of a patch's parent locks first (tree_lock_take), so
-- doc: two moves cannot each pass the cycle check and together make a cycle. Writes
-- doc: that do not move a patch never touch it.
CREATE TABLE tree_lock (
    id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    moves INTEGER NOT NULL
);
INSERT INTO tree_lock (id, moves) VALUES (1, 0);
