"""Git: commits of a product's repositories, evidence from commit trailers, review coverage per release."""
