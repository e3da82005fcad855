"""Standard addresses: streets (街路巷) and door plates (门楼牌)."""
