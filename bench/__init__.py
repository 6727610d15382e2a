"""Benchmarks: a load generator, the servers it drives (Frontdesk, a bare baseline, Node-RED) and
the scenarios of `make bench`. Not part of the product; nothing here is imported by `frontdesk`."""
