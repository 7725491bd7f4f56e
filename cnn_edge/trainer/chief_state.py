"""On `--resume` under "multi-worker", every worker starts from the chief's checkpoint.

Each worker saves its own checkpoint at the end of an epoch, but not at the same instant: a
worker killed between the chief's save and its own comes back one epoch behind, or with no
checkpoint at all (another machine, a cleaned /tmp). Synchronous training needs every replica
to start from the same weights and to run the same epochs, so the chief's checkpoint (the one
in the run folder) is the one truth: right after the cluster forms, its epoch, weights and
optimizer state are sent to every worker through the strategy's own collectives.
"""

from __future__ import annotations

from typing import Any


def take_chief_state(strategy: Any, model: Any, epoch: int) -> int:
    """Overwrite this worker's weights and optimizer state with the chief's; return the chief's epoch.

    Every worker must call it (each value is a collective). Replica 0 of the cluster is the
    chief's first device: the sum over replicas of "my value if I am replica 0, else 0" is the
    chief's value, delivered to all.
    """
    import tensorflow as tf

    def chief_value(read: Any) -> Any:
        def masked() -> Any:
            first = tf.equal(tf.distribute.get_replica_context().replica_id_in_sync_group, 0)
            return tf.cast(read(), tf.float64) * tf.cast(first, tf.float64)

        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(masked), axis=None)

    chief_epoch = int(round(float(chief_value(lambda: tf.constant(epoch)))))
    for variable in [*model.weights, *model.optimizer.variables]:
        value = chief_value(lambda v=variable: v.value)
        variable.assign(tf.cast(value, variable.dtype))
    return chief_epoch
