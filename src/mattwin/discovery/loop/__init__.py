"""The closed loop: a surrogate of the campaign's candidates, batch acquisition, the suggestion
history (``mattwin next``)."""
