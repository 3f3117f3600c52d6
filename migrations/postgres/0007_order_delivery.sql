-- The delivery address is copied onto an order when it is paid: the seller ships to
-- where the buyer lived then, not wherever they live now, and sees it only until 30
-- days after the order is closed (completed or cancelled, at closed_at).
ALTER TABLE orders ADD COLUMN delivery_address TEXT;
ALTER TABLE orders ADD COLUMN delivery_postcode TEXT;
ALTER TABLE orders ADD COLUMN closed_at TEXT;
-- Orders paid before this change: the best copy there is, the buyer's address today.
UPDATE orders SET
    delivery_address = (SELECT address FROM members WHERE members.id = orders.buyer_id),
    delivery_postcode = (SELECT postcode FROM members WHERE members.id = orders.buyer_id)
WHERE status IN ('ready to ship', 'shipped', 'completed');
UPDATE orders SET closed_at = updated_at WHERE status IN ('completed', 'cancelled');
