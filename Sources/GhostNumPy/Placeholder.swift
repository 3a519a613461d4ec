import GhostIR
