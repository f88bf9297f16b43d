"""The dream's nodes, prompts and model loading."""
