"""The torch-free shared part of the engine, imported by the engine and the app alike: the config
schema and its combination rules (config, config_checks, config_files), the protocol's events,
their typed schemas and the control commands (events, protocol, control), the run store (runs),
the dataset catalog (catalog), the diagnosis and the course's judgements (diagnosis, course),
batch arithmetic (batches) and the memory estimate's sentences (memory). Nothing here imports
torch, scikit-learn or Textual; import-linter contracts in pyproject.toml hold it so."""
