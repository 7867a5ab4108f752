ALTER TABLE reservations DROP COLUMN shortfalls;
