"""Catalogues of known mistakes, one module per lesson, with the variants that reveal them."""
