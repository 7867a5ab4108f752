DROP TABLE kit_first;
