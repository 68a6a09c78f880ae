// DrainAwareBuffer: a buffer for reading a TCP socket through Asio's epoll
// reactor that treats a short read as "drained", as HAProxy and NGINX do.
//
// Asio tries every new read at once (speculatively) and forgets readiness
// only after a read of 0 bytes, so on a keep-alive connection each read
// started after the last one emptied the socket (the next request after a
// response, the response after a request) first fails with EAGAIN: up to two
// wasted system calls per proxied request. TCP queues everything that has
// arrived, so a read that returned less than it asked for has emptied the
// socket, and the edge-triggered registration reports the next arrival: the
// reactor may wait for it instead of trying. A read through this buffer
// tells the reactor exactly that (the operation is "done and exhausted",
// which is what Asio itself reports for a 0-byte read), and the next read
// on the socket waits for readiness without a system call.
//
// It is a MutableBufferSequence of one buffer; Asio's reactive receive
// operation for it is specialised below. Errors and full reads behave as with
// any buffer. With the io_uring backend, reads are not speculative and it is
// an ordinary buffer.
#pragma once

// error.hpp and socket_base.hpp: Asio's receive operation (below) needs them first.
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/socket_base.hpp>
#include <cstddef>

namespace switchyard::http {

struct DrainAwareBuffer {
    boost::asio::mutable_buffer buffer;

    const boost::asio::mutable_buffer* begin() const { return &buffer; }
    const boost::asio::mutable_buffer* end() const { return &buffer + 1; }
};

// Where a LentBuffer read puts its bytes: space lent only when the socket
// has something (an idle keep-alive connection then holds no buffer). Called
// on the thread that runs the socket's reactor.
class ReadSpace {
  public:
    // Space to read into, valid until the read's completion or unlend().
    virtual boost::asio::mutable_buffer lend() = 0;
    // The read found nothing (it waits again): the space may go back.
    virtual void unlend() = 0;

  protected:
    ~ReadSpace() = default;
};

// A drain-aware read (as above) whose buffer comes from a ReadSpace at the
// moment bytes are there. `nominal` is only what Asio sees before the read
// starts (it must not be empty); no byte is written to it.
struct LentBuffer {
    ReadSpace* space;
    boost::asio::mutable_buffer nominal;

    const boost::asio::mutable_buffer* begin() const { return &nominal; }
    const boost::asio::mutable_buffer* end() const { return &nominal + 1; }
};

}  // namespace switchyard::http

#if !defined(BOOST_ASIO_HAS_IOCP) && !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#include <boost/asio/detail/reactive_socket_recv_op.hpp>

namespace boost::asio::detail {

// One recv() into `buffer`; a short read (or EOF) reports the socket
// exhausted. The perform step of both receive operations below.
inline reactor_op::status drain_aware_recv(socket_type socket, socket_ops::state_type state,
                                           boost::asio::mutable_buffer buffer,
                                           socket_base::message_flags flags,
                                           boost::system::error_code& ec, std::size_t& bytes) {
    const bool stream = (state & socket_ops::stream_oriented) != 0;
    if (!socket_ops::non_blocking_recv1(socket, buffer.data(), buffer.size(), flags, stream, ec,
                                        bytes))
        return reactor_op::not_done;  // EAGAIN: wait for the reactor
    if (stream && !ec && bytes < buffer.size()) return reactor_op::done_and_exhausted;
    if (stream && bytes == 0) return reactor_op::done_and_exhausted;  // as Asio: EOF
    return reactor_op::done;
}

// The receive operation for DrainAwareBuffer.
template <>
class reactive_socket_recv_op_base<switchyard::http::DrainAwareBuffer> : public reactor_op {
  public:
    reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                                 socket_ops::state_type state,
                                 const switchyard::http::DrainAwareBuffer& buffers,
                                 socket_base::message_flags flags, func_type complete_func)
        : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
          socket_(socket),
          state_(state),
          buffer_(buffers.buffer),
          flags_(flags) {}

    static status do_perform(reactor_op* base) {
        auto* o = static_cast<reactive_socket_recv_op_base*>(base);
        return drain_aware_recv(o->socket_, o->state_, o->buffer_, o->flags_, o->ec_,
                                o->bytes_transferred_);
    }

  private:
    socket_type socket_;
    socket_ops::state_type state_;
    boost::asio::mutable_buffer buffer_;
    socket_base::message_flags flags_;
};

// The same for LentBuffer: the space is lent for the recv() and given back
// when it found nothing.
template <>
class reactive_socket_recv_op_base<switchyard::http::LentBuffer> : public reactor_op {
  public:
    reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                                 socket_ops::state_type state,
                                 const switchyard::http::LentBuffer& buffers,
                                 socket_base::message_flags flags, func_type complete_func)
        : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
          socket_(socket),
          state_(state),
          space_(buffers.space),
          flags_(flags) {}

    static status do_perform(reactor_op* base) {
        auto* o = static_cast<reactive_socket_recv_op_base*>(base);
        const status result = drain_aware_recv(o->socket_, o->state_, o->space_->lend(), o->flags_,
                                               o->ec_, o->bytes_transferred_);
        if (result == not_done) o->space_->unlend();
        return result;
    }

  private:
    socket_type socket_;
    socket_ops::state_type state_;
    switchyard::http::ReadSpace* space_;
    socket_base::message_flags flags_;
};

}  // namespace boost::asio::detail
#endif
