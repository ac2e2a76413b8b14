"""The folder on disk: walk, parse cache, line patches, atomic writes, git. Imports core only."""
