DROP TABLE saga_deadlines;
