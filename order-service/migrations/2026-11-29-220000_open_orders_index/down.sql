DROP INDEX orders_open_by_user_idx;
