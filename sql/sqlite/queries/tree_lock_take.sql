-- name: tree_lock_take
-- doc: Serialises changes of parent (PUT /patch/{id} with a new parentId, imports that
-- doc: move a patch): taken before the patch's own row lock, held to the end of the
-- doc: transaction, so concurrent moves check for cycles one after another.
-- params: (none)
UPDATE tree_lock SET moves = moves + 1 WHERE id = 1
