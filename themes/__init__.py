"""Built-in okrsite themes (installed as the package okrsite.themes)."""
