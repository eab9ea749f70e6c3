-- name: 0002_tree_lock
-- doc: One row that every change of a patch's parent locks first (tree_lock_take), so
-- doc: two moves cannot each pass the cycle check and together make a cycle. Writes
-- doc: that do not move a patch never touch it.
CREATE TABLE dbo.tree_lock (
    id    int    NOT NULL,
    moves bigint NOT NULL,
    CONSTRAINT pk_tree_lock PRIMARY KEY (id),
    CONSTRAINT ck_tree_lock_single CHECK (id = 1)
);
GO
INSERT INTO dbo.tree_lock (id, moves) VALUES (1, 0);
