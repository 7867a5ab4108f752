DROP TABLE kit_second;
