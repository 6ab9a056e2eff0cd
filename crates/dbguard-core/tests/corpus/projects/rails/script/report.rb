puts "DELETE FROM users would remove every user"
stale = User.where("last_seen_at < ?", 1.year.ago)
puts stale.count
Session.where(expired: true).delete_all
