"""The pipeline: wires the replication stream, the decoder, batches, sinks and the ack together.

``runner`` is the read loop, ``flusher`` encodes and stores batches off the read loop and reports
what became durable, ``files`` names and encodes the Parquet files, ``checkpoint`` writes the
progress document.
"""
