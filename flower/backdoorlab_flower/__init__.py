"""BackdoorLab's Flower app: a ServerApp that runs Flower's own strategies against `backdoor-lab flower-client` nodes."""
