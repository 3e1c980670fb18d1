"""What pages share: the page registry, controls, chart builders, page anatomy and live runs."""
