"""The pure domain core: vocabulary, rules and validation. It performs no I/O."""
