"""Batch evaluation of Condenser on LongBench and ZeroSCROLLS: loaders, official metrics, readers, runs."""
