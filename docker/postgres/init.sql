-- One database per service (each service owns its data; the relay reads all five outboxes).
-- The postgres image runs this once, when its data volume is empty. Each service creates its
-- tables itself: it runs its embedded migrations at start-up.
CREATE DATABASE comanda_auth;
CREATE DATABASE comanda_user;
CREATE DATABASE comanda_order;
CREATE DATABASE comanda_product;
CREATE DATABASE comanda_payment;
