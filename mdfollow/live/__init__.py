"""The live feed: incremental rebuilds, `watch` and `serve`. Imports core and store."""
