"""The PySide6 desktop application. Holds no pipeline logic: it calls what the CLI calls."""
