"""Golden fixtures for the lab's server optimisers: Flower 1.42's own FedAvgM, FedAdagrad, FedAdam and FedYogi
strategies (flwr.serverapp.strategy) applied for four rounds to fixed updates of a 12-scalar model. Each round the
strategy receives one reply, the current model plus that round's update, so its FedAvg stage returns the reply
itself and only the optimiser acts. Run once, in a venv with flwr==1.42.0 (flower/e2e.sh makes one):
    ~/.cache/backdoor-lab/flwr-1.42.0/bin/python make_server_optimizer_fixtures.py > server_optimizers.json
CI only reads the JSON."""
import json
import numpy as np
import flwr
from flwr.supercore.task_identity import TaskIdentity
from flwr.app import Array, ArrayRecord, Message, MetricRecord, RecordDict
from flwr.serverapp.strategy import FedAdagrad, FedAdam, FedAvgM, FedYogi

TaskIdentity.run_id = 1
TaskIdentity.node_id = 1
TaskIdentity.task_id = 1
rng = np.random.RandomState(2027)
initial = rng.normal(0, 1, 12).astype(np.float32)
updates = [rng.normal(0, 0.5, 12).astype(np.float32) for _ in range(4)]


def reply(arrays):
    content = RecordDict({"arrays": ArrayRecord({"w": Array(np.asarray(arrays, dtype=np.float32))}), "metrics": MetricRecord({"num-examples": 1})})
    return Message(content=content, dst_node_id=0, message_type="train")


def run(strategy, record_current):
    current = initial.copy()
    models = []
    for server_round, update in enumerate(updates, start=1):
        # What configure_train would have stored: the model sent out this round.
        strategy.current_arrays = ArrayRecord({"w": Array(current)}) if record_current else {"w": current.astype(np.float64)}
        arrays, _ = strategy.aggregate_train(server_round, [reply(current + update)])
        current = np.asarray(arrays["w"].numpy(), dtype=np.float32)
        models.append(current.tolist())
    return models


cases = {
    "fedavgm": {"settings": {"eta": 1.0, "momentum": 0.9}, "models": run(FedAvgM(server_learning_rate=1.0, server_momentum=0.9), True)},
    "fedadagrad": {"settings": {"eta": 0.1, "tau": 1e-3}, "models": run(FedAdagrad(eta=0.1, tau=1e-3), False)},
    "fedadam": {"settings": {"eta": 0.1, "beta_1": 0.9, "beta_2": 0.99, "tau": 1e-3}, "models": run(FedAdam(eta=0.1, beta_1=0.9, beta_2=0.99, tau=1e-3), False)},
    "fedyogi": {"settings": {"eta": 0.01, "beta_1": 0.9, "beta_2": 0.99, "tau": 1e-3}, "models": run(FedYogi(eta=0.01, beta_1=0.9, beta_2=0.99, tau=1e-3), False)},
}
print(json.dumps({"flwr_version": flwr.__version__, "initial": initial.tolist(), "updates": [u.tolist() for u in updates], "cases": cases}, indent=1))
