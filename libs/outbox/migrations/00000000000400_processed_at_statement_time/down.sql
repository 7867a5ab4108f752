ALTER TABLE processed_messages ALTER COLUMN processed_at SET DEFAULT now();
