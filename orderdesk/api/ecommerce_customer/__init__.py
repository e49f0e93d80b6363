"""api/ecommerce_customer"""
