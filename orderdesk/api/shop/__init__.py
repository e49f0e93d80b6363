"""api/shop"""
