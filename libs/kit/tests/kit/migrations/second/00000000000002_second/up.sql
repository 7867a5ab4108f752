-- Depends on the first source: proves the sources run in order.
CREATE TABLE kit_second (id INT PRIMARY KEY REFERENCES kit_first (id));
