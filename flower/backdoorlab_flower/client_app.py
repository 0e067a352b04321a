"""Flower requires a ClientApp in every app; BackdoorLab's clients are native Swift nodes (`backdoor-lab
flower-client`), which speak the Fleet API themselves and never load this."""
from flwr.app import Context, Message
from flwr.clientapp import ClientApp

app = ClientApp()


@app.train()
def train(msg: Message, context: Context) -> Message:
    raise RuntimeError("run `backdoor-lab flower-client` nodes; this app has no Python client")
