"""Order use cases, one module per group: read what is needed, let the domain decide, write it in one go."""
