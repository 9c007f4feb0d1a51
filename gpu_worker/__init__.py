"""The VLM scoring stage: scorer backends, the leased worker loop and the GPU fleet scaler."""
