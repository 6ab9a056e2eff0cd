User.where(active: false).delete_all
Order.where("created_at < ?", 1.year.ago).update_all(status: "archived")
