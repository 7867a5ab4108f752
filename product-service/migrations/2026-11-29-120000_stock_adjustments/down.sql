DROP TABLE stock_adjustments;
ALTER TABLE products DROP COLUMN version;
