"""The Flask service's blueprints, one module per area."""
