"""The Teams adapter: the only package that imports botbuilder."""
