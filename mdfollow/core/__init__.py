"""The pure core: text -> model -> schedule -> plan -> render. No I/O, no clock, no CLI."""
