"""Pipeline stages that turn observations into motion."""
