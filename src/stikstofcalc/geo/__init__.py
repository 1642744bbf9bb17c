"""Geography: the AERIUS hexagon grid (:mod:`.hexgrid`)."""
