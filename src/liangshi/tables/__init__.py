"""Standard statistical tables (统计表格): counts by area with Chinese multi-level headers and totals, as xlsx."""
