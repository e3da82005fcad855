"""Buildings (楼栋) on plates and dwellings (房屋) in buildings."""
