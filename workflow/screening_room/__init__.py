"""The screening room: a local web application to screen a review's records with a model that learns from every decision."""
